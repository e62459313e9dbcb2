// Placement alone: insertion, removal and moves, told apart once the task's
// DOM work is done.
import {expect} from '@open-wc/testing';
import {Placement, type PlacementChange} from '../src/placement.js';

function watchedPlacement() {
  const changes: PlacementChange[] = [];
  const placement = new Placement((change) => changes.push(change));
  return {placement, changes};
}

const settled = () => Promise.resolve();

describe('Placement', () => {
  it('reports an insertion once the task’s DOM work is done, not before', async () => {
    const {placement, changes} = watchedPlacement();
    placement.connected();
    expect(placement.inDocument).to.equal(true);
    expect(changes).to.deep.equal([]);
    await settled();
    expect(changes).to.deep.equal(['inserted']);
  });

  it('reports a removal', async () => {
    const {placement, changes} = watchedPlacement();
    placement.connected();
    await settled();
    placement.disconnected();
    await settled();
    expect(changes).to.deep.equal(['inserted', 'removed']);
  });

  it('reports a move (removed and inserted again in one task) as unchanged, however often', async () => {
    const {placement, changes} = watchedPlacement();
    placement.connected();
    await settled();
    for (let i = 0; i < 3; i++) {
      placement.disconnected();
      placement.connected();
    }
    await settled();
    expect(changes).to.deep.equal(['inserted', 'unchanged']);
    expect(placement.inDocument).to.equal(true);
  });

  it('reports in and out again in one task as unchanged, out of the document', async () => {
    const {placement, changes} = watchedPlacement();
    placement.connected();
    placement.disconnected();
    await settled();
    expect(changes).to.deep.equal(['unchanged']);
    expect(placement.inDocument).to.equal(false);
  });
});
