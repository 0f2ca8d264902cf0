"""Web pages served beside IPP on the same port."""
