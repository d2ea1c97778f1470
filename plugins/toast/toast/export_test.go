package toast

// Internals exposed to the external toast_test package.
var Classify = classify
