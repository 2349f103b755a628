package zendesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
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

func (a *UploadedAttachment) validAnswer() error {
	if a.ID == "" {
		return errors.New("the answer holds no attachment id")
	}
	return nil
}
