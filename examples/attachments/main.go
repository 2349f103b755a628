// Attachments saves every file attached to the messages of a side
// conversation into a folder, the way a migration or an archiving job
// would.
//
//	go run ./examples/attachments -dir ./saved
//
// Without ZENDESK_* variables it runs against the in-memory zendesktest
// server, where it first opens a conversation with three files to save.
// Against Zendesk, set the variables the quickstart reads and
// ZENDESK_SIDE_CONVERSATION_ID to the conversation whose files to save.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/examples/internal/setup"
)

func main() {
	dir := flag.String("dir", "attachments", "the folder to save the files in (made if missing)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "attachments:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	target, err := setup.FromEnv(out)
	if err != nil {
		return err
	}
	defer target.Close()
	sc := target.Client.SideConversations

	id := os.Getenv("ZENDESK_SIDE_CONVERSATION_ID")
	if target.Fake != nil {
		if id, err = openWithFiles(ctx, sc, target.TicketID); err != nil {
			return err
		}
	}
	if id == "" {
		return errors.New("set ZENDESK_SIDE_CONVERSATION_ID to the side conversation whose files to save")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	saved := 0
	taken := map[string]bool{}
	for ev, err := range sc.ListEventsIter(ctx, target.TicketID, id, nil) {
		if err != nil {
			return err
		}
		if ev.Message == nil {
			continue
		}
		for _, att := range ev.Message.Attachments {
			path, n, err := save(ctx, sc, att, dir, taken)
			if err != nil {
				return fmt.Errorf("saving %s: %w", att.FileName, err)
			}
			fmt.Fprintf(out, "saved %s (%d bytes, %s) from event %s\n", path, n, att.ContentType, ev.ID)
			saved++
		}
	}
	fmt.Fprintf(out, "%d files saved in %s\n", saved, dir)
	return nil
}

// save downloads att into dir under its own name (with a number added
// when a file of the run already has it), through a temporary file, so
// that a download that fails midway leaves nothing behind.
func save(ctx context.Context, sc *zendesk.SideConversationsService, att zendesk.Attachment, dir string, taken map[string]bool) (string, int64, error) {
	name := filepath.Base(filepath.Clean("/" + strings.ReplaceAll(att.FileName, `\`, "/")))
	if name == "/" || name == "." || name == ".." {
		name = att.ID
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for n := 2; taken[name]; n++ {
		name = stem + "-" + strconv.Itoa(n) + ext
	}
	taken[name] = true
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	n, _, err := sc.DownloadAttachment(ctx, att, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", n, err
	}
	path := filepath.Join(dir, name)
	return path, n, os.Rename(tmp.Name(), path)
}

// openWithFiles uploads three files (two of one name) and opens a conversation with them on
// the fake server, so there is something to save.
func openWithFiles(ctx context.Context, sc *zendesk.SideConversationsService, ticket int64) (string, error) {
	files := [][2]string{
		{"printer-log.txt", "12:01 printer 3 reports: fuser at 310°C\n12:02 smoke detected\n"},
		{"invoice.csv", "item,amount\nfuser,129.00\n"},
		{"printer-log.txt", "12:30 printer 3 is back\n"}, // the same name again
	}
	var ids []string
	for _, f := range files {
		up, _, err := sc.UploadAttachment(ctx, f[0], strings.NewReader(f[1]))
		if err != nil {
			return "", err
		}
		ids = append(ids, up.ID)
	}
	res, _, err := sc.Create(ctx, ticket, zendesk.CreateRequest{Message: zendesk.Message{
		Subject:       "Printer 3",
		Body:          "The log and the invoice are attached.",
		To:            []zendesk.Participant{zendesk.Email("facilities@example.com")},
		AttachmentIDs: ids,
	}})
	if err != nil {
		return "", err
	}
	return res.SideConversation.ID, nil
}
