"""What the tests and the benchmarks share: browser helpers, the app under `streamlit
run`, canned loopback servers, PNG builders, bad-value tables and `shown`. No test module
imports another; they import from here."""
