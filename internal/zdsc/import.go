package zdsc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	zendesk "github.com/sideconv/zendesk"
)

var importCommand = &command{
	name:    "import",
	args:    "TICKET FILE",
	summary: "import a side conversation with its history",
	about: `
Import a side conversation that happened elsewhere, with its messages, from
FILE (- for stdin): the request body of Zendesk's import endpoint. Imported
messages are history: nobody receives them. Unknown fields in the file are
refused, so a typo is not silently dropped.

{
  "side_conversation": {"subject": "My printer is on fire!", "state": "open",
                        "external_ids": {"threadExternalId": "thread-external"}},
  "events": [
    {"created_at": "2022-10-05T20:47:02.230Z",
     "message": {"subject": "My printer is on fire!", "body": "The smoke is very colorful.",
                 "from": {"email": "someone-else@example.com"},
                 "to": [{"email": "someone@example.com"}]}}
  ]
}`,
	examples: `
echo '{"side_conversation": {"subject": "Printer on fire"}, "events": [{"created_at": "2022-10-05T20:47:02Z", "message": {"body": "The smoke is very colorful.", "from": {"email": "someone-else@example.com"}, "to": [{"email": "someone@example.com"}]}}]}' | zdsc --demo import 1 -
zdsc import 4711 thread.json`,
	run: runImport,
}

var importEventsCommand = &command{
	name:    "import-events",
	args:    "TICKET ID FILE",
	summary: "import more history into a side conversation",
	about: `
Import messages into the history of a side conversation from FILE (- for
stdin): the request body of Zendesk's import-events endpoint, an "events"
array as import takes it. Nobody receives them. Unknown fields are refused.

{"events": [{"created_at": "2022-10-05T20:47:02.230Z",
             "message": {"body": "The smoke is very colorful.",
                         "from": {"email": "someone-else@example.com"}}}]}`,
	examples: `
echo '{"events": [{"created_at": "2026-11-21T09:00:00Z", "message": {"body": "Called them too.", "from": {"email": "someone-else@example.com"}}}]}' | zdsc --demo import-events 1 5c000000-0000-4000-8000-000000000002 -
zdsc import-events 4711 ID events.json`,
	run: runImportEvents,
}

// decodeFile decodes the JSON document of an import, refusing unknown
// fields and anything after the document.
func (a *app) decodeFile(ctx context.Context, path string, v any) error {
	data, err := a.readInput(ctx, path, "FILE")
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return inputErrorf("%s: %w", displayPath(path), jsonError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return inputErrorf("%s: more than one JSON document", displayPath(path))
	}
	return nil
}

func displayPath(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// jsonError adds the line of a syntax or type error.
func jsonError(data []byte, err error) error {
	var offset int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		offset = se.Offset
	case errors.As(err, &te):
		offset = te.Offset
	case errors.Is(err, io.EOF):
		return errors.New("empty: a JSON object is needed")
	case errors.As(err, &pe), strings.HasPrefix(err.Error(), "Time.UnmarshalJSON"):
		// The only times of an import are the events' created_at.
		return fmt.Errorf("created_at must be a time such as \"2022-10-05T20:47:02.230Z\": %w", err)
	default:
		return err
	}
	if offset > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

func runImport(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("import")
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	var req zendesk.ImportRequest
	if err := a.decodeFile(ctx, pos[1], &req); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	res, _, err := client.SideConversations.Import(ctx, ticket, req)
	if err != nil {
		return err
	}
	if a.g.json {
		return a.printJSON(resultJSON(res))
	}
	sc := res.SideConversation
	a.sayf("Imported side conversation %s on ticket %d with %d events: %s (%s)",
		sc.ID, ticket, len(req.Events), sc.Subject, sc.State)
	return nil
}

func runImportEvents(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("import-events")
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	var body struct {
		Events []zendesk.ImportEvent `json:"events"`
	}
	if err := a.decodeFile(ctx, pos[2], &body); err != nil {
		return err
	}
	if err := (zendesk.ImportRequest{Events: body.Events}).Validate(); err != nil {
		return err
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	res, _, err := client.SideConversations.ImportEvents(ctx, ticket, pos[1], body.Events)
	if err != nil {
		return err
	}
	if a.g.json {
		return a.printJSON(resultJSON(res))
	}
	sc := res.SideConversation
	a.sayf("Imported %d events into side conversation %s: %s (%s)",
		len(body.Events), sc.ID, sc.Subject, sc.State)
	return nil
}
