"""Moving a whole tenant between installations: its subtree exported as one document, and imported whole."""
