package discord_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/adapters/discord"
)

// TestRegisterErrorNamesRealHost registers against an API URL where
// nothing listens: the error names that host, not discord.com, whose URL
// discordgo built before the transport redirected it.
func TestRegisterErrorNamesRealHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	s, err := discord.NewSession(discord.SessionConfig{Token: "test-token", APIURL: "http://" + host + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := discord.New(discord.Params{Engine: newTestEngine(t), Session: s, AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Register(context.Background())
	if err == nil {
		t.Fatal("Register against a closed port = nil error")
	}
	if msg := err.Error(); !strings.Contains(msg, "Put "+host+":") || strings.Contains(msg, "discord.com") {
		t.Errorf("Register error = %q, want it to name %s and not discord.com", msg, host)
	}
}
