package zdsc

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

	zendesk "github.com/sideconv/zendesk"
)

const messageFlagsHelp = `
--to RECIPIENT     a recipient; repeat for more, all of one type:
                     email:ann@example.com     "email:Ann Lee <ann@example.com>"
                     agent:123                 (a Zendesk user, by e-mail)
                     slack:T01/C02             (workspace/channel)
                     group:360                 group:360/agent:77  (a child ticket)
                     teams:19:abc@thread.tacv2
--subject TEXT     the subject
--body TEXT        the message
--body-file FILE   read the message from FILE, or from stdin with -
--attach FILE      attach a file (up to 50 MB); repeat for more
--key KEY          an idempotency key: running the command again with the
                   same key sends nothing new and prints what the first run made`

var messageFieldFlags = [][2]string{
	{"message.to", "set --to"},
	{"message.body", "set --body or --body-file"},
	{"message.subject", "--subject"},
	{"message.attachment_ids", "--attach"},
	{"IdempotencyKey", "--key"},
}

var createCommand = &command{
	name:    "create",
	args:    "TICKET",
	summary: "start a side conversation on a ticket",
	about: `
Start a side conversation on a ticket: the recipients decide its kind
(e-mail, Slack, child ticket, Microsoft Teams), and one message cannot mix
kinds. Everything is checked before anything is sent: recipients, body,
attached files. Files are uploaded first, then the message is sent.

Use --key in scripts: if the run fails without an answer (exit code 3) and
is run again with the same key, zdsc finds the first conversation instead
of writing to the recipients twice.`,
	flags: messageFlagsHelp,
	examples: `
zdsc --demo create 1 --to "email:Ann Lee <ann@example.com>" --subject "Refund" --body "Is it done?"
zdsc --demo create 1 --to slack:T0DEMO01/C0PAYMENTS --subject "Gateway" --body "Still failing?" --json
echo "Please replace the fuser." | zdsc --demo create 1 --to group:360/agent:77 --subject "Printer 3" --body-file - --key printer-3-fuser
zdsc create 4711 --to email:ann@example.com --to email:bob@example.com --body-file note.txt --attach log.txt`,
	fieldFlags: messageFieldFlags,
	run:        runCreate,
}

var replyCommand = &command{
	name:    "reply",
	args:    "TICKET ID",
	summary: "reply on a side conversation",
	about: `
Reply on a side conversation, with the same flags as create. Everything is
checked before anything is sent. With --key, a run repeated after a failure
without an answer (exit code 3) does not reply twice.`,
	flags: messageFlagsHelp,
	examples: `
zdsc --demo reply 1 5c000000-0000-4000-8000-000000000001 --to email:ann@example.com --body "Thanks, Ann!"
zdsc reply 4711 ID --to slack:T0DEMO01/C0PAYMENTS --body-file - < update.txt`,
	fieldFlags: messageFieldFlags,
	run:        runReply,
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// messageFlags are the flags of create and reply.
type messageFlags struct {
	to, attach              stringList
	subject, body, bodyFile string
	key                     string
}

func addMessageFlags(fs *flag.FlagSet) *messageFlags {
	m := &messageFlags{}
	fs.Var(&m.to, "to", "")
	fs.Var(&m.attach, "attach", "")
	fs.StringVar(&m.subject, "subject", "", "")
	fs.StringVar(&m.body, "body", "", "")
	fs.StringVar(&m.bodyFile, "body-file", "", "")
	fs.StringVar(&m.key, "key", "", "")
	return m
}

// localFile is a file to attach, checked before anything is sent.
type localFile struct {
	path, name string
}

// message builds the message the flags describe, reading the body file;
// it sends nothing. Files to attach are checked, not read.
func (a *app) message(ctx context.Context, fs *flag.FlagSet, m *messageFlags) (zendesk.Message, []localFile, error) {
	var msg zendesk.Message
	for _, to := range m.to {
		p, err := parseRecipient(to)
		if err != nil {
			return msg, nil, inputErrorf("--to %w", err)
		}
		msg.To = append(msg.To, p)
	}
	msg.Subject = m.subject
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case given["body"] && given["body-file"]:
		return msg, nil, usagef(a.cmd, "--body and --body-file exclude each other")
	case given["body-file"]:
		body, err := a.readInput(ctx, m.bodyFile, "--body-file")
		if err != nil {
			return msg, nil, err
		}
		msg.Body = string(body)
	default:
		msg.Body = m.body
	}
	files := make([]localFile, 0, len(m.attach))
	for _, path := range m.attach {
		st, err := os.Stat(path)
		switch {
		case err != nil:
			return msg, nil, inputErrorf("--attach %s: %w", path, unwrapPathError(err))
		case !st.Mode().IsRegular():
			return msg, nil, inputErrorf("--attach %s: not a regular file", path)
		case st.Size() > zendesk.MaxAttachmentBytes:
			return msg, nil, inputErrorf("--attach %s: %d bytes, more than Zendesk's %d-byte limit", path, st.Size(), zendesk.MaxAttachmentBytes)
		}
		files = append(files, localFile{path: path, name: filepath.Base(path)})
		// Validation sees that an attachment comes; its id is known
		// after the upload.
		msg.AttachmentIDs = append(msg.AttachmentIDs, "pending-upload-"+strconv.Itoa(len(files)))
	}
	return msg, files, nil
}

// readInput reads a file named by a flag or an argument, or stdin for "-".
func (a *app) readInput(ctx context.Context, path, what string) ([]byte, error) {
	if path == "-" {
		data, err := a.readStdin(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, inputErrorf("%s: interrupted while reading stdin; nothing was sent", what)
		case err != nil:
			return nil, inputErrorf("%s: reading stdin: %w", what, err)
		}
		return data, nil
	}
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, inputErrorf("%s: %w", what, unwrapPathError(err))
	}
	return data, nil
}

// readStdin reads stdin to its end, or until ctx ends: stdin may be a
// terminal nobody types into, and an interrupt must still end the run.
// A read cut short is left behind, blocked, until the process ends.
func (a *app) readStdin(ctx context.Context) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(a.env.Stdin)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// unwrapPathError drops the operation and path an *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// upload sends the files and returns their ids for the message. A failed
// upload sent no message.
func (a *app) upload(ctx context.Context, client *zendesk.Client, files []localFile) ([]string, error) {
	ids := make([]string, 0, len(files))
	for _, f := range files {
		id, err := uploadOne(ctx, client, f)
		if err != nil {
			return nil, &stepError{step: "uploading " + f.path, err: err, noMessage: true}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func uploadOne(ctx context.Context, client *zendesk.Client, f localFile) (string, error) {
	file, err := os.Open(filepath.Clean(f.path))
	if err != nil {
		return "", err
	}
	defer func() { _ = file.Close() }() // read only: nothing to lose
	up, _, err := client.SideConversations.UploadAttachment(ctx, f.name, file)
	if err != nil {
		return "", err
	}
	return up.ID, nil
}

// sendable reads the message flags into *msg, checks the request with
// validate (which reads *msg), and uploads the attached files: what create
// and reply share. Nothing is uploaded or sent unless validate passes.
func (a *app) sendable(ctx context.Context, fs *flag.FlagSet, m *messageFlags, msg *zendesk.Message, validate func() error) (*zendesk.Client, error) {
	read, files, err := a.message(ctx, fs, m)
	if err != nil {
		return nil, err
	}
	*msg = read
	if err := validate(); err != nil {
		return nil, err
	}
	client, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	if msg.AttachmentIDs, err = a.upload(ctx, client, files); err != nil {
		return nil, err
	}
	return client, nil
}

func runCreate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("create")
	m := addMessageFlags(fs)
	_, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	req := zendesk.CreateRequest{IdempotencyKey: m.key}
	client, err := a.sendable(ctx, fs, m, &req.Message, func() error { return req.Validate() })
	if err != nil {
		return err
	}
	res, resp, err := client.SideConversations.Create(ctx, ticket, req)
	if err != nil {
		return err
	}
	a.noteFound(resp, m.key)
	if a.g.json {
		return a.printJSON(resultJSON(res))
	}
	sc := res.SideConversation
	a.sayf("Created side conversation %s on ticket %d: %s (%s, %s)",
		sc.ID, ticket, sc.Subject, channelOf(sc), sc.State)
	if child, ok := sc.ChildTicketID(); ok {
		a.sayf("Child ticket %d", child)
	}
	return nil
}

func runReply(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("reply")
	m := addMessageFlags(fs)
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	req := zendesk.ReplyRequest{IdempotencyKey: m.key}
	client, err := a.sendable(ctx, fs, m, &req.Message, func() error { return req.Validate() })
	if err != nil {
		return err
	}
	res, resp, err := client.SideConversations.Reply(ctx, ticket, pos[1], req)
	if err != nil {
		return err
	}
	a.noteFound(resp, m.key)
	if a.g.json {
		return a.printJSON(resultJSON(res))
	}
	sc := res.SideConversation
	a.sayf("Replied on side conversation %s: %s (%s, %s)", sc.ID, sc.Subject, channelOf(sc), sc.State)
	return nil
}

// noteFound says on stderr when --key found what an earlier run made.
func (a *app) noteFound(resp *zendesk.Response, key string) {
	if resp != nil && resp.FoundByIdempotencyKey {
		fmt.Fprintf(a.env.Stderr, "zdsc %s: an earlier run with --key %q made this; nothing was sent now\n", a.cmd.name, key)
	}
}

// resultOutput is a SideConversationResult as --json prints it: the event
// only when Zendesk sent one (a reply's answer documents none).
type resultOutput struct {
	SideConversation zendesk.SideConversation `json:"side_conversation"`
	Event            *zendesk.Event           `json:"event,omitempty"`
	Updates          zendesk.Updates          `json:"updates"`
}

func resultJSON(res *zendesk.SideConversationResult) resultOutput {
	out := resultOutput{SideConversation: res.SideConversation, Updates: res.Updates}
	if res.Event.ID != "" {
		ev := res.Event
		out.Event = &ev
	}
	return out
}
