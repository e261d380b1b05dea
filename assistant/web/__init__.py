"""The chat UI: a Gradio page over `Assistant` (gradio is imported only by `web.app`)."""
