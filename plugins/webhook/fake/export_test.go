package fake

// StartReporting starts a fake whose contract mismatches go to report.
var StartReporting = start
