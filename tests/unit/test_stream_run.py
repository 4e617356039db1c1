"""StreamRun against the local backend over real HTTP: accumulate, stop, fail, retry."""
import threading

from lib.api import Client
from lib.api.errors import AuthenticationError, StreamInterruptedError
from lib.text.stream_run import FAILED, OK, STOPPED, StreamRun

MODEL = "local/ngram-docs"


def _params(**extra):
    return {"model": MODEL, "prompt": "The playground", "max_tokens": 24, "stream": True,
            **extra}


def _factory(backend, extra_retry_hooks=()):
    def make(**kwargs):
        hooks = {"retry": list(kwargs.get("hooks", {}).get("retry", [])) + list(extra_retry_hooks)}
        return Client(api_key="", base_url=backend.base_url, hooks=hooks)
    return make


def _wait_until(run, predicate, limit=200):
    seen = -1
    for _ in range(limit):
        seen = run.wait_for_change(seen, 0.5)
        view = run.snapshot()
        if predicate(view):
            return view
    raise AssertionError("the run never reached the expected state")


def test_a_stream_of_n_choices_is_collected_per_choice(fresh_backend):
    finished = []
    run = StreamRun(_factory(fresh_backend), _params(n=3, seed=7),
                    on_finish=finished.append).start()
    assert run.join(30)
    view = run.snapshot()
    assert view.status == OK and not view.running and view.error is None
    assert [c.index for c in view.choices] == [0, 1, 2]
    for c in view.choices:
        assert c.text and c.token_count == len(c.tokens) > 0
        assert c.finish_reason in ("length", "stop", "eos") and c.done
        assert c.text == "".join(t.token for t in c.tokens)
    assert view.usage is not None and view.usage.completion_tokens == view.token_count
    assert view.ttft is not None and view.elapsed >= view.ttft
    assert finished == [run]
    events = run.events()
    assert len(events) == view.token_count
    assert "".join(t for _, i, t in events if i == 1) == view.choices[1].text


def test_with_stream_off_tokens_carry_alternatives_and_echo_gives_prompt_tokens(fresh_backend):
    run = StreamRun(_factory(fresh_backend),
                    _params(stream=False, logprobs=3, echo=True, max_tokens=8)).start()
    assert run.join(30)
    view = run.snapshot()
    assert view.status == OK and not view.streaming
    choice = view.choices[0]
    assert choice.tokens and all(t.logprob is not None for t in choice.tokens)
    assert any(t.top and len(t.top) > 1 for t in choice.tokens)
    assert view.prompt_tokens and view.prompt_text == "The playground"


def test_stop_closes_at_once_and_keeps_the_text_received(fresh_backend):
    fresh_backend.configure(tokens_per_second=40)
    finished = threading.Event()
    run = StreamRun(_factory(fresh_backend), _params(max_tokens=2000, n=2),
                    on_finish=lambda r: finished.set()).start()
    _wait_until(run, lambda v: all(c.token_count >= 3 for c in v.choices))
    run.stop()
    stopped = run.snapshot()
    assert stopped.status == STOPPED
    assert run.join(10) and finished.is_set()
    after = run.snapshot()
    assert [c.text for c in after.choices] == [c.text for c in stopped.choices]
    assert all(c.text and c.finish_reason == "stopped" for c in after.choices)
    assert after.token_count < 2 * 2000


def test_an_auth_failure_is_an_error_not_an_exception(fresh_backend):
    fresh_backend.add_fault({"kind": "status", "status": 401})
    run = StreamRun(_factory(fresh_backend), _params()).start()
    assert run.join(30)
    view = run.snapshot()
    assert view.status == FAILED and isinstance(view.error, AuthenticationError)
    assert "API key" in view.error.describe()
    assert view.choices[0].finish_reason == "error"


def test_a_dropped_stream_keeps_the_partial_text(fresh_backend):
    fresh_backend.add_fault({"kind": "drop_after", "tokens": 5})
    run = StreamRun(_factory(fresh_backend), _params(max_tokens=50)).start()
    assert run.join(30)
    view = run.snapshot()
    assert view.status == FAILED and isinstance(view.error, StreamInterruptedError)
    assert view.choices[0].text and 0 < view.choices[0].token_count < 50


def test_retries_are_visible_as_a_notice_then_the_run_succeeds(fresh_backend):
    notices = []
    holder = {}
    run = StreamRun(_factory(fresh_backend, [lambda *a: notices.append(holder["run"].snapshot().notice)]),
                    _params())
    holder["run"] = run
    fresh_backend.add_fault({"kind": "status", "status": 429, "retry_after": 0.1})
    run.start()
    assert run.join(30)
    assert run.snapshot().status == OK
    assert notices and "retrying in 0.1 s" in notices[0] and "Rate limited" in notices[0]
    assert run.snapshot().notice is None


def test_wait_for_change_returns_the_new_version_or_times_out(fresh_backend):
    run = StreamRun(_factory(fresh_backend), _params()).start()
    assert run.join(30)
    version = run.version
    assert run.wait_for_change(-1, 0.01) == version
    assert run.wait_for_change(version, 0.01) == version


def test_a_watcher_is_woken_when_the_run_ends(fresh_backend):
    fresh_backend.configure(tokens_per_second=30)
    run = StreamRun(_factory(fresh_backend), _params(max_tokens=1000)).start()
    changed, ended = threading.Event(), threading.Event()
    run.watch(changed, ended)
    run.wait_for_change(run.version, 5)  # the first token: a change, not a milestone
    ended.clear()
    assert ended.wait(0.01) is False
    run.stop()
    assert ended.wait(5) is True and not run.running


def test_a_watcher_is_woken_when_a_choice_finishes(fresh_backend):
    fresh_backend.configure(tokens_per_second=30)
    run = StreamRun(_factory(fresh_backend), _params(max_tokens=3, n=2)).start()
    changed, ended = threading.Event(), threading.Event()
    run.watch(changed, ended)
    ended.clear()
    assert ended.wait(10) is True
    assert any(c.finish_reason is not None for c in run.snapshot().choices)
    run.join(10)
