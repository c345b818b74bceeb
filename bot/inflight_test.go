package bot

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
)

// startInflight sends a signed slash command's headers and half its body
// to addr; the returned func sends the rest and returns the raw response.
// In between, the request is in flight on the server.
func startInflight(t *testing.T, addr, secret, text, responseURL string) func() string {
	t.Helper()
	body := slashForm(text, responseURL)
	ts, sig := slackadapter.NewVerifier(secret, nil).Sign(time.Now(), []byte(body))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("POST /slack/commands HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"X-Slack-Request-Timestamp: %s\r\nX-Slack-Signature: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", addr, ts, sig, len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}
	return func() string {
		if _, err := io.WriteString(conn, body[half:]); err != nil {
			return "write: " + err.Error()
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, err := io.ReadAll(conn)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			return string(b) + "\nread: " + err.Error()
		}
		return string(b)
	}
}
