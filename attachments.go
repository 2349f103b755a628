package zendesk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"unicode"
)

// Attachment is a file of a message, as Zendesk returns it inside messages.
type Attachment struct {
	ID          string `json:"id"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type,omitempty"`
	ContentURL  string `json:"content_url,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Inline      bool   `json:"inline"`
}

// UploadedAttachment is the answer to UploadAttachment. Send its ID in
// Message.AttachmentIDs of a Create, Reply or Import.
type UploadedAttachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// MaxAttachmentBytes is the largest file UploadAttachment sends: Zendesk's
// 50 MB attachment limit. The file is buffered in memory, up to this size,
// so that a retry after a 429 sends the same bytes.
const MaxAttachmentBytes = 50 << 20

// UploadAttachment uploads a file for a later message and returns its id:
// put it in Message.AttachmentIDs of a Create, Reply or Import. filename is
// the name recipients see, without directories. The content is read whole
// (at most MaxAttachmentBytes; a larger file is refused before anything is
// sent) and sent as multipart/form-data.
func (s *SideConversationsService) UploadAttachment(ctx context.Context, filename string, content io.Reader) (*UploadedAttachment, *Response, error) {
	if err := checkFilename(filename); err != nil {
		return nil, nil, err
	}
	if content == nil {
		return nil, nil, invalid("content", "is nil")
	}
	limit := s.client.maxUpload
	data, err := io.ReadAll(io.LimitReader(content, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("zendesk: reading the attachment %q: %w", filename, err)
	}
	if int64(len(data)) > limit {
		return nil, nil, invalidf("content", "is larger than the %d-byte attachment limit", limit)
	}
	body, contentType, err := multipartFile(filename, data)
	if err != nil {
		return nil, nil, err
	}
	cl := &call{
		method:      http.MethodPost,
		url:         s.client.endpoint("tickets/side_conversations/attachments", nil),
		body:        body,
		contentType: contentType,
	}
	var out UploadedAttachment
	resp, err := s.client.do(ctx, cl, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

func checkFilename(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid("filename", "is empty")
	case strings.ContainsAny(name, `/\`):
		return invalidf("filename", "%q holds a directory; pass the base name only", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalidf("filename", "%q contains control characters", name)
	case name == "." || name == "..":
		return invalidf("filename", "%q is not a file name", name)
	}
	return nil
}

// multipartFile encodes data as the form field "file" of a multipart body.
func multipartFile(filename string, data []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) + 512)
	w := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": filename}))
	h.Set("Content-Type", attachmentType(filename, data))
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// attachmentType names the file's media type from its extension, else from
// its first bytes.
func attachmentType(filename string, data []byte) string {
	if t := mime.TypeByExtension(path.Ext(filename)); t != "" {
		return t
	}
	return http.DetectContentType(data)
}

// DownloadAttachment writes the content of an attachment of a message (its
// ContentURL, as Zendesk returns it in events and sideloads) to w, and
// returns the number of bytes written.
//
// The content URL must be on the client's own scheme and host, under its
// API root, as Zendesk's content URLs are; any other URL is refused with a
// *ValidationError before anything is sent, so an answer cannot send the
// client, or its credentials, elsewhere. Zendesk may redirect the download
// to its file storage: the redirect is followed without credentials.
//
// At most MaxAttachmentBytes are written; a larger file fails with an error
// matching ErrInvalidResponse once that many were. A failure before the
// first byte reached w is retried like any GET; after it, nothing is
// retried, the error says how many bytes w received, and w holds a part of
// the file: write to a temporary file and keep it only on success.
func (s *SideConversationsService) DownloadAttachment(ctx context.Context, att Attachment, w io.Writer) (int64, *Response, error) {
	c := s.client
	if w == nil {
		return 0, nil, invalid("w", "is nil")
	}
	if att.ContentURL == "" {
		return 0, nil, invalid("content_url", "is empty: take the attachment from a message Zendesk returned")
	}
	u, err := url.Parse(att.ContentURL)
	if err != nil {
		return 0, nil, invalidf("content_url", "%q is not a URL", att.ContentURL)
	}
	if !u.IsAbs() {
		u = c.apiRoot.ResolveReference(u)
	}
	if !c.underAPIRoot(u) {
		return 0, nil, invalidf("content_url", "%s is not under %s: the client downloads only from its own account", u.Redacted(), c.apiRootStr)
	}
	limit := c.maxUpload
	if att.Size > limit {
		return 0, nil, invalidf("size", "%d bytes is more than the %d-byte attachment limit", att.Size, limit)
	}
	d := &download{w: w, limit: limit}
	cl := &call{method: http.MethodGet, url: u.String(), accept: acceptAny}
	resp, err := c.do(ctx, cl, d)
	if err != nil {
		return d.written, resp, err
	}
	return d.written, resp, nil
}

// acceptAny is the Accept header of downloads.
var acceptAny = []string{"*/*"}

// download receives an attachment's content into w.
type download struct {
	w       io.Writer
	limit   int64
	written int64
}

// receive copies a successful answer's body to w. A body that broke off
// before anything was written may be fetched again; after that, or when w
// fails or the file is too large, the failure is final.
func (d *download) receive(body io.Reader) error {
	lb := &limitedBody{r: body, remaining: d.limit}
	n, err := io.Copy(d.w, lb)
	d.written += n
	switch {
	case err == nil:
		return nil
	case lb.exceeded:
		return &decodeError{err: fmt.Errorf("the attachment is larger than the %d-byte limit; %d bytes were written: %w", d.limit, d.written, errBodyTooLarge), final: true}
	case lb.readErr == nil:
		return &decodeError{err: fmt.Errorf("writing the attachment after %d bytes: %w", d.written, err), final: true}
	case d.written == 0:
		return &decodeError{err: fmt.Errorf("the download broke off: %w", err)}
	}
	return &decodeError{err: fmt.Errorf("the download broke off after %d bytes were written: %w", d.written, err), final: true}
}
