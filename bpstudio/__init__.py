"""bpstudio: see, step through and check backpropagation (chapter 2 of Nielsen's book)."""

__version__ = "0.1.0"
