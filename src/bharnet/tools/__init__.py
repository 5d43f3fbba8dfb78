"""Cost and speed tools: parameters and MACs of a named model (``profile``), throughput
(``benchmark``) and ONNX export checked with ONNX Runtime (``export``)."""
