"""Presenter's playback picker under AppTest: it offers only runs it can play."""
from lib.saved import History, Run
from lib.saved.history import OK
from tests.support.pages import open_page


def _recorded(prompt: str, *, streamed: bool) -> int:
    events = [(0.0, 0, "Hello"), (0.1, 0, " there")] if streamed else []
    return History().record(Run(
        page="completions", model="local/ngram-docs", request={"prompt": prompt},
        status=OK, outputs=[{"index": 0, "text": "Hello there", "tokens": 2}],
        metrics={"streamed": streamed}, events=events, title=prompt))


def test_only_runs_with_a_recorded_stream_are_offered_and_one_plays_under_its_prompt(local):
    playable = _recorded("Streamed once", streamed=True)
    _recorded("Sent without streaming", streamed=False)  # newest: it was the one preselected
    at = open_page("pages/6_Presenter.py")
    (picker,) = [s for s in at.selectbox if s.label == "Recorded run"]
    assert picker.options == [
        f"#{playable} · local/ngram-docs · Streamed once"]
    at.button(key="presenter-playback").click().run()
    assert not at.exception
    assert any(f"recorded run #{playable}" in i.value for i in at.info)
    assert at.session_state["presenter.values"]["prompt"] == "Streamed once"
