package zendesktest_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk/zendesktest"
)

// The fake answers with the keys of the reference's examples, no more and
// no fewer, unless an option asks for more: every difference is an option,
// not a default.

// shape is the structure of a JSON value: the keys of its objects, each
// with the shape of its value, and the union of the shapes of an array's
// elements. Scalars and null have no shape, nor have external_ids, whose
// keys are data.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "external_ids" {
				out[k] = nil
				continue
			}
			out[k] = shape(e)
		}
		return out
	case []any:
		var merged any
		for _, e := range x {
			merged = mergeShapes(merged, shape(e))
		}
		return []any{merged}
	}
	return nil
}

func mergeShapes(a, b any) any {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if a == nil {
			return b
		}
		return a
	}
	out := map[string]any{}
	for k, v := range am {
		out[k] = v
	}
	for k, v := range bm {
		out[k] = mergeShapes(out[k], v)
	}
	return out
}

func shapeOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	m, ok := shape(v).(map[string]any)
	require.True(t, ok, "%s", body)
	return m
}

// referenceShapes are the shapes of the reference's examples.
type referenceShapes struct {
	conversation, event, result, list, upload map[string]any
}

func loadReferenceShapes(t *testing.T) referenceShapes {
	t.Helper()
	created := shapeOf(t, fixture(t, "responses", "create_side_conversation.json"))
	return referenceShapes{
		// The side conversation object of the reference's JSON format,
		// ticket_id included.
		conversation: shapeOf(t, fixture(t, "responses", "side_conversation.json")),
		event:        created["event"].(map[string]any),
		result:       created,
		list:         shapeOf(t, fixture(t, "responses", "list_side_conversations.json")),
		upload:       shapeOf(t, fixture(t, "responses", "upload_attachment.json")),
	}
}

// uploadImage uploads a PNG of 2x1 pixels through the raw API and returns
// the answer.
func uploadImage(t *testing.T, srv *zendesktest.Server) answer {
	t.Helper()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", "image.png")
	require.NoError(t, err)
	_, err = part.Write(png)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	a := call(t, srv, http.MethodPost, "/api/v2/tickets/side_conversations/attachments", body.Bytes(),
		http.Header{"Content-Type": {w.FormDataContentType()}})
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	return a
}

func TestAnswersHaveTheReferenceShape(t *testing.T) {
	t.Parallel()
	ref := loadReferenceShapes(t)
	srv := zendesktest.Start(t)
	list := "/api/v2/tickets/1/side_conversations"

	up := uploadImage(t, srv)
	assert.Equal(t, ref.upload, shapeOf(t, up.Body), "upload")
	id := up.JSON(t)["id"].(string)

	// Create, with what the reference's example shows: a named sender, a
	// recipient, external ids and an attachment.
	created := post(t, srv, list, `{"message":{"subject":"s","body":"b","from":{"email":"agent@example.com","name":"A","user_id":1},
		"to":[{"email":"someone@example.com"}],"external_ids":{"k":"v"},"attachment_ids":["`+id+`"]}}`)
	require.Equal(t, http.StatusCreated, created.Status, "%s", created.Body)
	got := shapeOf(t, created.Body)
	assert.Equal(t, ref.event, got["event"], "create: event")
	assert.Equal(t, ref.conversation, got["side_conversation"], "create: side_conversation")
	assert.ElementsMatch(t, keys(ref.result), keys(got), "create: envelope")
	conv := list + "/" + created.JSON(t)["side_conversation"].(map[string]any)["id"].(string)

	// Reply: the side conversation alone, as documented.
	replied := post(t, srv, conv+"/reply", `{"message":{"body":"again","to":[{"email":"someone@example.com"}]}}`)
	require.Equal(t, http.StatusOK, replied.Status, "%s", replied.Body)
	assert.Equal(t, map[string]any{"side_conversation": ref.conversation}, shapeOf(t, replied.Body), "reply")

	// Update and Show: the side conversation alone.
	updated := call(t, srv, http.MethodPut, conv, []byte(`{"side_conversation":{"state":"closed"}}`), nil)
	require.Equal(t, http.StatusOK, updated.Status, "%s", updated.Body)
	assert.Equal(t, map[string]any{"side_conversation": ref.conversation}, shapeOf(t, updated.Body), "update")
	assert.Equal(t, map[string]any{"side_conversation": ref.conversation}, shapeOf(t, get(t, srv, conv).Body), "show")

	// List: the envelope of the example, conversations of the object's shape.
	listed := shapeOf(t, get(t, srv, list).Body)
	assert.ElementsMatch(t, keys(ref.list), keys(listed), "list: envelope")
	assert.Equal(t, []any{ref.conversation}, listed["side_conversations"], "list: side_conversations")

	// Events, in every answer that carries them: the example event's keys,
	// and updates on an update event.
	updateEvent := map[string]any{}
	for k, v := range ref.event {
		if k != "message" {
			updateEvent[k] = v
		}
	}
	updateEvent["updates"] = map[string]any{"state": nil}
	events := shapeOf(t, get(t, srv, conv+"/events").Body)
	assert.ElementsMatch(t, []string{"events", "next_page", "previous_page", "count"}, keys(events))
	assert.Equal(t, []any{mergeShapes(ref.event, updateEvent)}, events["events"], "events")
	sideloaded := shapeOf(t, get(t, srv, list+"?include=events").Body)
	assert.Equal(t, events["events"], sideloaded["events"], "sideloaded events")
	incremental := shapeOf(t, get(t, srv, "/api/v2/tickets/side_conversations/events?start_time=0").Body)
	assert.Equal(t, events["events"], incremental["events"], "incremental events")

	// The imports answer as Create does.
	imported := post(t, srv, list+"/import", `{"side_conversation":{"subject":"s"},"events":[{"created_at":"2022-10-05T20:47:02.230Z",
		"message":{"subject":"s","body":"b","from":{"email":"a@example.com","name":"A","user_id":7},"to":[{"email":"someone@example.com"}],"external_ids":{"k":"v"}}}]}`)
	require.Equal(t, http.StatusCreated, imported.Status, "%s", imported.Body)
	got = shapeOf(t, imported.Body)
	assert.ElementsMatch(t, keys(ref.result), keys(got), "import: envelope")
	assert.Equal(t, ref.conversation, got["side_conversation"], "import: side_conversation")
	withoutAttachments := func(ev any) any {
		m := mergeShapes(map[string]any{}, ev).(map[string]any)
		msg := mergeShapes(map[string]any{}, m["message"]).(map[string]any)
		delete(msg, "attachments")
		m["message"] = msg
		return m
	}
	assert.Equal(t, withoutAttachments(ref.event), withoutAttachments(got["event"]), "import: event")
}

// WithReplyEvent and WithEventTicketIDAndURL add what the reference's
// examples do not show.
func TestAnswersBeyondTheReferenceAreOptions(t *testing.T) {
	t.Parallel()
	ref := loadReferenceShapes(t)
	srv := zendesktest.Start(t, zendesktest.WithReplyEvent(), zendesktest.WithEventTicketIDAndURL())
	list := "/api/v2/tickets/1/side_conversations"
	created := post(t, srv, list, `{"message":{"body":"b","to":[{"email":"someone@example.com"}]}}`)
	require.Equal(t, http.StatusCreated, created.Status, "%s", created.Body)
	ev := created.JSON(t)["event"].(map[string]any)
	conv := created.JSON(t)["side_conversation"].(map[string]any)
	assert.EqualValues(t, 1, ev["ticket_id"])
	assert.Equal(t, conv["url"].(string)+"/events/"+ev["id"].(string), ev["url"])

	replied := post(t, srv, list+"/"+conv["id"].(string)+"/reply", `{"message":{"body":"again"}}`)
	require.Equal(t, http.StatusOK, replied.Status, "%s", replied.Body)
	got := shapeOf(t, replied.Body)
	assert.ElementsMatch(t, keys(ref.result), keys(got), "reply with WithReplyEvent: envelope")
	want := mergeShapes(map[string]any{"ticket_id": nil, "url": nil}, ref.event).(map[string]any)
	gotEvent := got["event"].(map[string]any)
	assert.ElementsMatch(t, keys(want), keys(gotEvent), "event with WithEventTicketIDAndURL")
	m := replied.JSON(t)
	assert.Equal(t, "reply", m["event"].(map[string]any)["type"])
	assert.Equal(t, map[string]any{}, m["updates"])

	events := get(t, srv, list+"/"+conv["id"].(string)+"/events").JSON(t)["events"].([]any)
	for _, e := range events {
		assert.Contains(t, e, "ticket_id")
		assert.Contains(t, e, "url")
	}
}
