"""The Word redline: a change between two versions as a .docx with real tracked changes (redline.py)."""
