// Package receiver is a placeholder.
package receiver
