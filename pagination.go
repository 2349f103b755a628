package zendesk

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// offsetLimitError explains a 400 answer to a page that starts past
// Zendesk's 10,000-record offset limit, which Zendesk reports tersely.
func offsetLimitError(cl *call, err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || cl.method != http.MethodGet {
		return err
	}
	u, perr := url.Parse(cl.url)
	if perr != nil {
		return err
	}
	q := u.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = MaxPerPage
	}
	if page <= 1 || (page-1)*perPage < offsetLimit {
		return err
	}
	return &OffsetLimitError{APIError: apiErr, Page: page, PerPage: perPage}
}

// OffsetLimitError is returned when Zendesk refuses a page that starts past
// the 10,000th record: offset pagination cannot go deeper. It wraps the
// *APIError Zendesk answered with.
type OffsetLimitError struct {
	*APIError
	Page, PerPage int
}

func (e *OffsetLimitError) Error() string {
	return e.APIError.Error() + ": page " + strconv.Itoa(e.Page) + " of " + strconv.Itoa(e.PerPage) +
		" starts past record " + strconv.Itoa(offsetLimit) +
		", and Zendesk refuses offset pagination beyond 10,000 records; narrow the query instead of paging deeper"
}

// Unwrap returns the *APIError.
func (e *OffsetLimitError) Unwrap() error { return e.APIError }
