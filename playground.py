"""Home page: what the playground is, where to go, and which models the connection offers."""
import streamlit as st

from lib.ui import home_view as view
from lib.ui.model_picker import list_models, models_notice
from lib.ui.shell import page_shell

conn = page_shell("home")
st.write("Try every knob of Together AI's completions and image APIs: watch tokens stream, "
         "read token probabilities, compare models, sweep parameters and download image "
         "grids that carry their settings.")
view.connection_status(conn)
view.page_cards()

if conn is None:
    st.stop()

st.subheader(f"Models on {conn.provider}")
models = list_models(conn)
models_notice(conn)
if models:
    view.model_table(models)
