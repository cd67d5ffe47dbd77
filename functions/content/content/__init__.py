"""Content library: vendor assets in a private versioned bucket (processed after upload, published and expired on
their dates), tier-, region- and type-gated partner access with tracked downloads, and co-branded marketing kits."""
