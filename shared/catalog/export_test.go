package catalog

// DecodeCacheMetadata exposes the listing's one-pass cache decoder to the fuzz target.
var DecodeCacheMetadata = decodeCacheMetadata
