"""The playground's engine, grouped by feature; no Streamlit below ``lib/ui``.

    api/            talking to a server: the client, stream reader, wire parsing, SSE, body
                    reader, errors, results, image decoding and fetching, and the helpers for
                    values from outside (untrusted, quoting, redaction)
    text/           completions: stream run, history record, choice board, token table,
                    replay, text sweep
    images/         images: PNG settings, grids, archive, encode cache, store, batch, run, sweep
    saved/          what outlives a session: history, presets, share links, run settings,
                    the data folder
    local_backend/  the built-in loopback server and its demo models
    ui/             the shared Streamlit pieces the pages draw with

Dependencies point down, without cycles: ui → text, images → saved → api, and api imports
no other part of lib (it decodes images itself, below the image feature). Three modules
sit at this level because they serve several features and belong to none: ``catalogue``
(every parameter of both endpoints, read by the features, saved settings, the local
backend and the ui); ``sweep_grid`` (the grid plan both the text and the image sweep lay
out; in either feature it would make the other import sideways); and ``connection``
(which server and which key: it joins the api client with the local backend, so it sits
above both, and the ui uses it).
"""
