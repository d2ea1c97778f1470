package mindbody

// Internals exposed to the external mindbody_test package.
var Classify = classify
