package prune

// Internal parsers, exported for the fuzz tests of package prune_test.
var DataFileID = dataFileID
