package athena

// Internals exposed to the external athena_test package.
var Classify = classify
