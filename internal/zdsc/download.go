package zdsc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	zendesk "github.com/sideconv/zendesk"
)

var downloadCommand = &command{
	name:    "download",
	args:    "TICKET ID",
	summary: "save every attachment of a side conversation",
	about: `
Save every attachment of every message of a side conversation into a
directory (the current one unless --dir), under the name Zendesk gives it.
Files are readable by you only (mode 0600): attachments of support tickets
often hold personal data.

Nothing is overwritten without --force: if a file of that name exists,
nothing is downloaded. Two attachments of the same name are saved as
NAME, NAME-2 and so on. A name that is not a plain file name (with a
directory, or only dots) is refused and the others are saved; the exit
code is then 1. With --json, one line per saved file.`,
	flags: `
--dir DIR   where to save the files (made if missing; default: here)
--force     overwrite files that exist`,
	examples: `
zdsc --demo download 1 5c000000-0000-4000-8000-000000000001 --dir attachments
zdsc download 4711 ID --dir ticket-4711 --json`,
	run: runDownload,
}

// saved is one attachment download writes, as --json prints it.
type saved struct {
	Attachment zendesk.Attachment `json:"attachment"`
	Path       string             `json:"path"`
	Bytes      int64              `json:"bytes"`
}

func runDownload(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("download")
	dir := fs.String("dir", ".", "")
	force := fs.Bool("force", false, "")
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	if st, err := os.Stat(*dir); err == nil && !st.IsDir() {
		return inputErrorf("--dir %s: not a directory", *dir)
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}

	var atts []zendesk.Attachment
	for ev, err := range client.SideConversations.ListEventsIter(ctx, ticket, pos[1], nil) {
		if err != nil {
			return err
		}
		if ev.Message != nil {
			atts = append(atts, ev.Message.Attachments...)
		}
	}
	if len(atts) == 0 {
		fmt.Fprintln(a.env.Stderr, "zdsc download: the side conversation has no attachments")
		return nil
	}

	// Name every file and look for files in the way before writing any.
	type plan struct {
		att  zendesk.Attachment
		path string
	}
	var plans []plan
	var refused []string
	taken := map[string]bool{}
	for _, att := range atts {
		if reason := unsafeName(att.FileName); reason != "" {
			refused = append(refused, fmt.Sprintf("attachment %s: the name %q %s; not saved", att.ID, att.FileName, reason))
			continue
		}
		name := freeName(att.FileName, taken)
		taken[name] = true
		path := filepath.Join(*dir, name)
		if !*force {
			if _, err := os.Lstat(path); err == nil {
				return inputErrorf("%s exists: nothing was downloaded (--force overwrites)", path)
			}
		}
		plans = append(plans, plan{att, path})
	}
	if len(plans) > 0 {
		if err := os.MkdirAll(*dir, 0o750); err != nil {
			return inputErrorf("--dir: %w", unwrapPathError(err))
		}
	}

	failed := len(refused)
	for _, r := range refused {
		fmt.Fprintf(a.env.Stderr, "zdsc download: %s\n", r)
	}
	enc := jsonLines(a.env.Stdout)
	for _, p := range plans {
		n, err := saveAttachment(ctx, client, p.att, p.path, *force)
		if err != nil {
			failed++
			fmt.Fprintf(a.env.Stderr, "zdsc download: %s: %s\n", safeLine(p.att.FileName), errorLine(err, a.cmd))
			continue
		}
		if a.g.json {
			if err := enc.Encode(saved{Attachment: p.att, Path: p.path, Bytes: n}); err != nil {
				return err
			}
			continue
		}
		a.sayf("Saved %s (%s)", p.path, sizeText(n))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d attachments were not saved", failed, len(atts))
	}
	return nil
}

// unsafeName says why an attachment's name cannot be a file name in the
// directory, or "".
func unsafeName(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "is empty"
	case strings.ContainsAny(name, `/\`):
		return "holds a directory"
	case strings.Trim(name, ".") == "":
		return "is only dots"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "holds control characters"
	case filepath.VolumeName(name) != "":
		return "names a volume"
	}
	return ""
}

// freeName returns name, or NAME-2.EXT, NAME-3.EXT ... when an earlier
// attachment of this download took it.
func freeName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 2; ; i++ {
		candidate := base + "-" + strconv.Itoa(i) + ext
		if !taken[candidate] {
			return candidate
		}
	}
}

// saveAttachment writes one attachment to path. Without force it creates
// the file only if there is none; with force it writes a temporary file
// and renames it over path, so a failed download leaves the old file. A
// failed download leaves no partial file.
func saveAttachment(ctx context.Context, client *zendesk.Client, att zendesk.Attachment, path string, force bool) (int64, error) {
	var f *os.File
	var err error
	if force {
		f, err = os.CreateTemp(filepath.Dir(path), ".zdsc-download-*")
	} else {
		f, err = os.OpenFile(filepath.Clean(path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%s exists (--force overwrites)", path)
		}
		return 0, unwrapPathError(err)
	}
	n, _, err := client.SideConversations.DownloadAttachment(ctx, att, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil && force {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}

// sizeText writes a size for people.
func sizeText(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
}
