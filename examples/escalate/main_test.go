package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

//nolint:paralleltest // t.Setenv and parallel tests do not mix
func TestEscalateOnTheFake(t *testing.T) {
	for _, name := range []string{"ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "ZENDESK_TICKET_ID"} {
		t.Setenv(name, "")
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	text := out.String()
	assert.Contains(t, text, "opened child ticket #10001 for group 360001")
	assert.Contains(t, text, "posted to Slack channel C456DEF")
	assert.Contains(t, text, "closed 2 side conversations")
}
