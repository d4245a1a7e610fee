// "Post about this space": a post that shares the space, shown to the author's followers with the
// space as a card under it (cards.js), which Join, Remind me or the recording start from. Offered
// in the room and on a scheduled space's page.
import { post } from "./api.js";
import { announce, field, foldedForm, onSubmit } from "./ui.js";

// `currentSpace()`: the space as it is now (a live room's title may change while it is open).
export function sharePostForm(currentSpace) {
  const { details, form, box } = foldedForm({
    summary: "Post about this space",
    controls: [field({ label: "Post text", name: "text", tag: "textarea", rows: 2, maxlength: 280, hint: "Your followers see it with the space, and can join from it." })],
    submit: "Post",
    detailsClass: "share-post",
  });
  details.addEventListener("toggle", () => {
    if (details.open && !form.text.value) form.text.value = `Listening to “${currentSpace().title}”`;
    if (details.open) form.text.focus();
  });
  onSubmit(form, box, async () => {
    const text = form.text.value.trim();
    if (!text) throw new Error("Write something to go with the space.");
    await post("/posts", { text, space_id: currentSpace().id });
    form.reset();
    details.open = false;
    announce("Posted, with the space");
  });
  return details;
}
