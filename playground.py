"""Home page: what the playground is, where to go, and which models the connection offers."""
import streamlit as st

from lib.ui.model_picker import list_models, models_notice
from lib.ui.sidebar import connection_sidebar

st.set_page_config(page_title="Together Playground", page_icon=":material/science:",
                   layout="wide")

conn = connection_sidebar()

st.title("Together Playground")
st.write("Try every knob of Together AI's completions and image APIs: watch tokens stream, "
         "read token probabilities, compare models, sweep parameters and download image "
         "grids that carry their settings.")

if conn is None:
    st.stop()

st.subheader(f"Models on {conn.provider}")
models = list_models(conn)
models_notice(conn)
if models:
    st.dataframe(
        [{"id": m.id, "type": m.type, "name": m.display_name, "context": m.context_length,
          "input $/1M": m.input_price, "output $/1M": m.output_price} for m in models],
        hide_index=True, width="stretch")
