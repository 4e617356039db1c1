"""The plain way to stream into Streamlit, as the baseline for bench/completions_render.py.

n = 1: ``st.write_stream``; n > 1: one placeholder per choice, re-rendered on every token.
Settings come from the URL (?n=4&max_tokens=4000&prompt=...), the server from
PLAYGROUND_LOCAL_BACKEND_URL; the same client as the playground reads the stream.
"""
import json
import os

import streamlit as st

from lib.api import Client

params = st.query_params
n = int(params.get("n", 1))
body = {"model": params.get("model", "local/ngram-docs"),
        "prompt": params.get("prompt", "The playground"),
        "max_tokens": int(params.get("max_tokens", 200)), "n": n,
        "logit_bias": json.loads(params.get("logit_bias", "{}"))}

if st.button("Go"):
    stream = Client(api_key="", base_url=os.environ["PLAYGROUND_LOCAL_BACKEND_URL"]).stream(body)
    if n == 1:
        with st.container(key="choice-0", border=True):
            st.write_stream(event.text for event in stream)
    else:
        slots = [st.container(key=f"choice-{i}", border=True).empty() for i in range(n)]
        texts = [""] * n
        for event in stream:
            texts[event.index] += event.text
            slots[event.index].markdown(texts[event.index])
