"""A bare page with as many widgets of each kind as the URL asks for: the baseline for
bench/widget_touch.py. Nothing but the widgets, so a rerun costs what Streamlit's own
widget handling costs (``?slider=7&number_input=5&...``; the first slider is Temperature).
Only drawn when run as the app, so the benchmark can import the kinds."""
import streamlit as st

KINDS = {
    "slider": lambda i: st.slider("Temperature" if i == 0 else f"slider {i}", 0.0, 2.0, 0.7),
    "number_input": lambda i: st.number_input(f"number {i}", 0, 100, 1),
    "selectbox": lambda i: st.selectbox(f"select {i}", ["a", "b", "c"]),
    "text_area": lambda i: st.text_area(f"area {i}", "text"),
    "text_input": lambda i: st.text_input(f"input {i}", "text"),
    "checkbox": lambda i: st.checkbox(f"check {i}"),
    "radio": lambda i: st.radio(f"radio {i}", ["a", "b", "c"]),
    "button": lambda i: st.button(f"button {i}"),
    "multiselect": lambda i: st.multiselect(f"multi {i}", ["a", "b", "c"]),
    "download_button": lambda i: st.download_button(f"download {i}", b"x"),
    "file_uploader": lambda i: st.file_uploader(f"upload {i}"),
    "data_editor": lambda i: st.data_editor([{"token id": "", "bias": 0.0}], key=f"editor {i}",
                                            num_rows="dynamic"),
}

# How the benchmark finds each kind on a page.
TESTIDS = {"slider": "stSlider", "number_input": "stNumberInput", "selectbox": "stSelectbox",
           "text_area": "stTextArea", "text_input": "stTextInput", "checkbox": "stCheckbox",
           "radio": "stRadio", "button": "stButton", "multiselect": "stMultiSelect",
           "download_button": "stDownloadButton", "file_uploader": "stFileUploader",
           "data_editor": "stDataFrame"}   # Completions draws no read-only table before a run


def widget_counts(page) -> dict[str, int]:
    """How many widgets of each kind a Playwright ``page`` draws (sidebar included): what
    a bare page must hold to be compared with it."""
    return {kind: page.locator(f"[data-testid='{testid}']").count()
            for kind, testid in TESTIDS.items()}

if __name__ == "__main__":
    st.set_page_config(layout="wide")
    for kind, draw in KINDS.items():
        for i in range(min(int(st.query_params.get(kind, 0)), 50)):
            draw(i)
