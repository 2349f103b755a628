package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without ZENDESK_* variables the quickstart runs every step on the fake.
//
//nolint:paralleltest // t.Setenv and parallel tests do not mix
func TestQuickstartOnTheFake(t *testing.T) {
	for _, name := range []string{"ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "ZENDESK_TICKET_ID"} {
		t.Setenv(name, "")
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	text := out.String()
	for _, want := range []string{
		"using the in-memory zendesktest server",
		"uploaded printer-log.txt",
		"created side conversation",
		"replied to 5c000000-0000-4000-8000-000000000001: last message at",
		`"Update: the fire is out, the printer is not."`,
		"reply via api (\"Update: the fire is out, the printer is not.\", 0 attachments)",
		"state open, 2 events",
		"state closed since",
		"imported ",
		"create via api",
		"update via api (closed)",
		"refused before sending: field message.to[1]",
		"sent 2 messages",
	} {
		assert.Contains(t, text, want)
	}
	assert.Equal(t, 12, strings.Count(text, "\n"), "one line per step: %s", text)
}

// Half a configuration is an error, not a silent fall back to the fake.
//
//nolint:paralleltest // t.Setenv and parallel tests do not mix
func TestQuickstartIncompleteEnvironment(t *testing.T) {
	t.Setenv("ZENDESK_SUBDOMAIN", "acme")
	t.Setenv("ZENDESK_EMAIL", "")
	t.Setenv("ZENDESK_API_TOKEN", "")
	t.Setenv("ZENDESK_OAUTH_TOKEN", "")
	t.Setenv("ZENDESK_TICKET_ID", "")
	err := run(context.Background(), &bytes.Buffer{})
	assert.ErrorContains(t, err, "ZENDESK_API_TOKEN")
}
