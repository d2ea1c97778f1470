package mirror

import (
	"strings"
	"time"
)

// line renders one message of a transcript: its time, who spoke and what
// was said, one line (newlines in the text are kept as spaces so a line
// stays a turn).
func line(fields map[string]any) string {
	at, _ := fields["at"].(string)
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		at = t.UTC().Format("2006-01-02 15:04:05Z")
	}
	role, _ := fields["role"].(string)
	text, _ := fields["text"].(string)
	text = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(text)
	return at + " " + role + ": " + text + "\n"
}

// transcript renders messages (in Seq order) as the conversation's body.
func transcript(messages []map[string]any) string {
	var b strings.Builder
	for _, m := range messages {
		b.WriteString(line(m))
	}
	return b.String()
}
