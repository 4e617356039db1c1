"""The prompt lab: one template, a table of inputs, 1–4 variants, every cell graded."""
