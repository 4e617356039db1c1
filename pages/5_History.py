"""History: every run, newest first; open one, restore its settings, replay it, delete."""
import streamlit as st

from lib.saved import history
from lib.ui import account, alerts, history_view as view
from lib.ui.shell import page_shell
from lib.ui.text import shown

PAGE = view.PAGE

conn = page_shell("history")

try:
    store = account.history_store()
    st.caption(f"Kept in {shown(store.path)}.")
    search_col, model_col, page_col = st.columns([2, 1, 1])
    search = search_col.text_input("Search prompts", key=f"{PAGE}:search")
    model = model_col.selectbox("Model", ["All", *store.models()], key=f"{PAGE}:model")
    page = page_col.selectbox("Page", ["All", *store.pages()], key=f"{PAGE}:page")
    filters = dict(search=search, model=None if model == "All" else model,
                   page=None if page == "All" else page)
    total = store.count(**filters)
    runs = store.list(**filters, limit=200)
except history.HistoryError as exc:
    alerts.error(f"The history cannot be shown. {exc}", icon=":material/database:")
    st.stop()

linked = view.linked_run(store)  # ?run=ID: this person's run, else "not found"
st.caption(f"{total} run{'s' if total != 1 else ''}" + (" (showing the newest 200)"
                                                       if total > 200 else ""))
if not runs:
    st.info("No runs yet: generate something on another page.")
    st.stop()
view.table(runs)

by_id = {r.id: r for r in runs}
opened = st.selectbox("Open a run", list(by_id), key=f"{PAGE}:open",
                      index=list(by_id).index(linked) if linked in by_id else 0,
                      format_func=lambda i: view.label(by_id[i]))
st.query_params[view.RUN_PARAM] = str(opened)
run = store.get(opened)
if run is None:
    alerts.warning("That run was deleted meanwhile.")
    st.stop()

restore_col, replay_col, delete_col, all_col = st.columns(4)
target = view.restore_target(run)
if target is not None:
    if restore_col.button("Restore", key=f"{PAGE}:restore", icon=":material/restore:",
                          width="stretch", help="Put this run's settings back into its page."):
        if view.restore(run):
            st.switch_page(target.file)
replay = replay_col.button("Replay", key=f"{PAGE}:replay", icon=":material/replay:",
                           width="stretch", disabled=not view.replayable(run)
                           or conn is None,
                           help="Re-run with the same seed and compare with the record.")
if delete_col.button("Delete", key=f"{PAGE}:delete", icon=":material/delete:",
                     width="stretch"):
    store.delete(run.id)
    st.rerun()
if all_col.button("Delete all…", key=f"{PAGE}:delete_all", width="stretch"):
    st.session_state[f"{PAGE}:confirm_all"] = True

if st.session_state.get(f"{PAGE}:confirm_all"):
    alerts.warning(f"Delete all {store.count()} runs? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete all", key=f"{PAGE}:delete_all_yes", type="primary"):
        store.delete_all()
        st.session_state[f"{PAGE}:confirm_all"] = False
        st.rerun()
    if no.button("Cancel", key=f"{PAGE}:delete_all_no"):
        st.session_state[f"{PAGE}:confirm_all"] = False
        st.rerun()

if replay and conn is not None:
    view.replay_run(run, conn)
st.subheader(shown(view.label(run)), anchor=False)
view.show_run(run)
