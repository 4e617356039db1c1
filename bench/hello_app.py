"""The smallest Streamlit app: the baseline for bench/cold_start.py."""
import streamlit as st

st.write("hello")
