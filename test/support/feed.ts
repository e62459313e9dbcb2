// What every framework example must do, as a person would use it: show the
// state, list messages, send, and recover from an outage.
import {expect} from '@open-wc/testing';
import {type Rig, until} from './rig.js';

/** Types into an input the way a person does, so frameworks' change tracking sees it. */
function type(input: HTMLInputElement, text: string) {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, text);
  input.dispatchEvent(new Event('input', {bubbles: true}));
}

export async function exerciseFeed(rig: Rig, root: ParentNode, stateText: () => string | undefined) {
  await until(() => stateText() === 'open', {message: 'shows open'});
  await rig.send(JSON.stringify({price: 1}));
  await until(() => root.querySelectorAll('li').length === 1, {message: 'lists the message'});
  expect(root.querySelector('li')!.textContent).to.equal('{"price":1}');

  type(root.querySelector('input')!, 'hello');
  root.querySelector('form')!.requestSubmit();
  await until(async () => (await rig.received()).includes('{"text":"hello"}'), {message: 'sent'});

  // Down for half a second: a dropped connection alone may be back before a poll sees it gone.
  await rig.restart(500);
  await until(() => stateText() !== 'open', {message: 'notices the outage'});
  await until(() => stateText() === 'open', {timeout: 10_000, message: 'back open'});
}
