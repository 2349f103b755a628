package zendesk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const uploadURL = testRoot + "tickets/side_conversations/attachments"

// parseUpload reads the multipart body the client sent.
func parseUpload(t *testing.T, req captured) (field, filename, contentType string, data []byte) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mediaType)
	r := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	part, err := r.NextPart()
	require.NoError(t, err)
	data, err = io.ReadAll(part)
	require.NoError(t, err)
	_, err = r.NextPart()
	require.ErrorIs(t, err, io.EOF, "one part only")
	return part.FormName(), part.FileName(), part.Header.Get("Content-Type"), data
}

func TestUploadAttachment(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, uploadURL, reply(201, string(fixture(t, "responses/upload_attachment.json"))))
	png := []byte("\x89PNG\r\n\x1a\n fake image bytes")

	up, resp, err := c.SideConversations.UploadAttachment(context.Background(), "image.png", bytes.NewReader(png))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, UploadedAttachment{ID: attachmentID, Name: "image.png", ContentType: "image/png", Size: 50645, Width: 406, Height: 214}, *up)

	req := rec.last(t)
	assert.Equal(t, testBasic, req.Header.Get("Authorization"))
	field, name, ctype, data := parseUpload(t, req)
	assert.Equal(t, "file", field)
	assert.Equal(t, "image.png", name)
	assert.Equal(t, "image/png", ctype)
	assert.Equal(t, png, data)
}

// The id goes into the next message.
func TestUploadedIDInReply(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodPost, uploadURL, reply(201, string(fixture(t, "responses/upload_attachment.json"))))
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/reply",
		reply(200, string(fixture(t, "responses/reply_side_conversation.json"))))
	up, _, err := c.SideConversations.UploadAttachment(context.Background(), "image.png", strings.NewReader("x"))
	require.NoError(t, err)
	_, _, err = c.SideConversations.Reply(context.Background(), 42, convID, ReplyRequest{Message: Message{
		Body: "see attached", To: []Participant{Email("someone@example.com")}, AttachmentIDs: []string{up.ID},
	}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"message":{"body":"see attached","to":[{"email":"someone@example.com"}],"attachment_ids":["`+attachmentID+`"]}}`, string(rec.last(t).Body))
}

// A 429 is retried with exactly the same bytes.
func TestUploadRetriedWithSameBytesAfter429(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	rec := register(mt, http.MethodPost, uploadURL,
		reply(429, "", "Retry-After", "2"), reply(201, string(fixture(t, "responses/upload_attachment.json"))))
	// A reader that can be read only once: the client must buffer it.
	content := io.MultiReader(strings.NewReader("%PDF-1.7 "), strings.NewReader(strings.Repeat("page ", 1000)))
	_, resp, err := c.SideConversations.UploadAttachment(context.Background(), "report.pdf", content)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	calls := rec.calls()
	require.Len(t, calls, 2)
	assert.Equal(t, calls[0].Body, calls[1].Body)
	assert.Equal(t, calls[0].Header.Get("Content-Type"), calls[1].Header.Get("Content-Type"))
	_, _, ctype, data := parseUpload(t, calls[1])
	assert.Equal(t, "application/pdf", ctype)
	assert.Len(t, data, len("%PDF-1.7 ")+5000)
	assert.Len(t, w.all(), 1)
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	c.maxUpload = 1024
	cases := []struct {
		name, filename string
		content        io.Reader
		field          string
	}{
		{"empty name", "", strings.NewReader("x"), "filename"},
		{"directory", "tmp/x.png", strings.NewReader("x"), "filename"},
		{"windows directory", `C:\x.png`, strings.NewReader("x"), "filename"},
		{"control", "x\n.png", strings.NewReader("x"), "filename"},
		{"nil content", "x.png", nil, "content"},
		{"too large", "big.bin", bytes.NewReader(make([]byte, 1025)), "content"},
	}
	for _, tc := range cases {
		up, resp, err := c.SideConversations.UploadAttachment(context.Background(), tc.filename, tc.content)
		assert.Nil(t, up, tc.name)
		assert.Nil(t, resp, tc.name)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tc.name)
		assert.Equal(t, tc.field, ve.Field, tc.name)
	}
	noCalls(t, mt)

	// Exactly the limit is sent.
	register(mt, http.MethodPost, uploadURL, reply(201, `{"id":"s3-x","name":"ok.bin","size":1024}`))
	up, _, err := c.SideConversations.UploadAttachment(context.Background(), "ok.bin", bytes.NewReader(make([]byte, 1024)))
	require.NoError(t, err)
	assert.Equal(t, "s3-x", up.ID)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestUploadReadErrorSendsNothing(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	_, _, err := c.SideConversations.UploadAttachment(context.Background(), "x.txt", failingReader{})
	assert.ErrorContains(t, err, "disk on fire")
	noCalls(t, mt)
}

func TestUploadContentTypeSniffedWithoutExtension(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "image/png", attachmentType("logo.png", nil))
	assert.Equal(t, "text/plain; charset=utf-8", attachmentType("README", []byte("hello")))
	assert.Equal(t, "application/pdf", attachmentType("scan", []byte("%PDF-1.4")))
}

const downloadURL = testRoot + "tickets/42/side_conversations/" + convID + "/attachments/s3-1/download/log.txt"

// brokenBody sends some bytes and then breaks off.
type brokenBody struct {
	data string
	sent bool
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.sent || b.data == "" {
		return 0, readReset
	}
	b.sent = true
	return copy(p, b.data), nil
}

func (b *brokenBody) Close() error { return nil }

func breakOff(data string) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &brokenBody{data: data}, Request: req}, nil
	}
}

func TestDownloadAttachment(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, downloadURL, reply(200, "12:01 smoke\n", "X-Zendesk-Request-Id", "dl-1"))
	var buf bytes.Buffer
	n, resp, err := c.SideConversations.DownloadAttachment(context.Background(), Attachment{ContentURL: downloadURL, Size: 12}, &buf)
	require.NoError(t, err)
	assert.EqualValues(t, 12, n)
	assert.Equal(t, "12:01 smoke\n", buf.String())
	assert.Equal(t, "dl-1", resp.RequestID)
	got := rec.last(t)
	assert.Equal(t, testBasic, got.Header.Get("Authorization"))
	assert.Equal(t, "*/*", got.Header.Get("Accept"))

	// A relative content URL is read against the API root.
	buf.Reset()
	_, _, err = c.SideConversations.DownloadAttachment(context.Background(),
		Attachment{ContentURL: "/api/v2/tickets/42/side_conversations/" + convID + "/attachments/s3-1/download/log.txt"}, &buf)
	require.NoError(t, err)
	assert.Equal(t, "12:01 smoke\n", buf.String())
}

// Content URLs elsewhere than the account's API, and files over the limit,
// are refused before anything is sent.
func TestDownloadAttachmentRefusals(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	for _, tc := range []struct {
		att   Attachment
		w     io.Writer
		field string
	}{
		{Attachment{ContentURL: "https://evil.example/api/v2/x"}, io.Discard, "content_url"},
		{Attachment{ContentURL: "http://acme.zendesk.com/api/v2/x"}, io.Discard, "content_url"},
		{Attachment{ContentURL: "https://user:pw@acme.zendesk.com/api/v2/x"}, io.Discard, "content_url"},
		{Attachment{ContentURL: "https://acme.zendesk.com/other/x"}, io.Discard, "content_url"},
		{Attachment{ContentURL: "https://acme.zendesk.com/api/v2/../../x"}, io.Discard, "content_url"},
		{Attachment{ContentURL: "%zz"}, io.Discard, "content_url"},
		{Attachment{}, io.Discard, "content_url"},
		{Attachment{ContentURL: downloadURL, Size: MaxAttachmentBytes + 1}, io.Discard, "size"},
		{Attachment{ContentURL: downloadURL}, nil, "w"},
	} {
		_, _, err := c.SideConversations.DownloadAttachment(context.Background(), tc.att, tc.w)
		var v *ValidationError
		require.ErrorAs(t, err, &v, "%+v", tc.att)
		assert.Equal(t, tc.field, v.Field)
	}
	noCalls(t, mt)
}

// A download that breaks off before anything was written is fetched again;
// one that breaks off later is not, and says how much was written.
func TestDownloadAttachmentBrokenOff(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, downloadURL, breakOff(""), reply(200, "whole file"))
	var buf bytes.Buffer
	n, resp, err := c.SideConversations.DownloadAttachment(context.Background(), Attachment{ContentURL: downloadURL}, &buf)
	require.NoError(t, err)
	assert.EqualValues(t, 10, n)
	assert.Equal(t, "whole file", buf.String())
	assert.Equal(t, 2, resp.Attempts)
	assert.Len(t, rec.calls(), 2)

	c2, mt2, _ := newMockClient(t)
	rec2 := register(mt2, http.MethodGet, downloadURL, breakOff("half a "), reply(200, "whole file"))
	buf.Reset()
	n, _, err = c2.SideConversations.DownloadAttachment(context.Background(), Attachment{ContentURL: downloadURL}, &buf)
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.ErrorContains(t, err, "after 7 bytes were written")
	assert.EqualValues(t, 7, n)
	assert.Len(t, rec2.calls(), 1, "not fetched again over what was written")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestDownloadAttachmentLimits(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	c.maxUpload = 4
	register(mt, http.MethodGet, downloadURL, reply(200, "12345"))
	var buf bytes.Buffer
	n, _, err := c.SideConversations.DownloadAttachment(context.Background(), Attachment{ContentURL: downloadURL}, &buf)
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.ErrorContains(t, err, "larger than the 4-byte limit")
	assert.EqualValues(t, 4, n)

	c.maxUpload = MaxAttachmentBytes
	_, _, err = c.SideConversations.DownloadAttachment(context.Background(), Attachment{ContentURL: downloadURL}, failingWriter{})
	assert.ErrorContains(t, err, "disk full")

	register(mt, http.MethodGet, downloadURL, reply(404, `{"error":"RecordNotFound","description":"Not found"}`))
	_, _, err = c.SideConversations.DownloadAttachment(context.Background(), Attachment{ContentURL: downloadURL}, &buf)
	assert.ErrorIs(t, err, ErrNotFound)
}
