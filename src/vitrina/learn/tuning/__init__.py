"""Per-tenant text encoders: training pairs from judgments or the search log, fine-tuning (the `torch` extra),
ONNX export for serving, and the versions an index can serve and roll back to."""
