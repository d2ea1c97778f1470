package http

// NoDuplicateKeys exposes noDuplicateKeys to the tests.
var NoDuplicateKeys = noDuplicateKeys
