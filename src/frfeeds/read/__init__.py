"""Reading a records folder: files -> front matter -> YAML -> validated records, with the
parse cache and the codec that stores them."""
