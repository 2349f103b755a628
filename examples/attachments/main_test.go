package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

//nolint:paralleltest // t.Setenv and parallel tests do not mix
func TestAttachmentsOnTheFake(t *testing.T) {
	for _, name := range []string{"ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "ZENDESK_TICKET_ID"} {
		t.Setenv(name, "")
	}
	dir := filepath.Join(t.TempDir(), "saved")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, dir))
	assert.Contains(t, out.String(), "3 files saved in "+dir)
	log, err := os.ReadFile(filepath.Join(dir, "printer-log.txt"))
	require.NoError(t, err)
	assert.Equal(t, "12:01 printer 3 reports: fuser at 310°C\n12:02 smoke detected\n", string(log))
	csv, err := os.ReadFile(filepath.Join(dir, "invoice.csv"))
	require.NoError(t, err)
	assert.Equal(t, "item,amount\nfuser,129.00\n", string(csv))
	second, err := os.ReadFile(filepath.Join(dir, "printer-log-2.txt"))
	require.NoError(t, err)
	assert.Equal(t, "12:30 printer 3 is back\n", string(second), "a second file of one name does not overwrite the first")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "no temporary file is left behind")
}
