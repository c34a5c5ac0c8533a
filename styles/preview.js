// The live preview reloads when the book changes (server-sent events from
// pipeline serve: each carries the page's version). Added by the server to
// the page, ours or the book's, after the page is checked.
const events = new EventSource("/events");
events.onmessage = (event) => {
  if (event.data !== document.body.dataset.version) { location.reload(); }
};
