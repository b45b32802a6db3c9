"""Ferry's pipeline side: define pipelines, render them to Argo, run them locally."""
