import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { TASK_CHANGE_ERROR_TYPES } from '../../src/contract/task-change.js';
import {
  FireRunNotFoundError,
  FireRunStateError,
  fromFailure,
  TaskConflictError,
  TaskExistsError,
  TaskNotFoundError,
  TaskOwnershipError,
  TaskValidationError,
  toFailure,
} from '../../src/tasks/errors.js';

/** A failure as a client sees it when the `taskChange` workflow failed on its activity's failure. */
function asWorkflowFailure(failure: ApplicationFailure): WorkflowFailedError {
  const activity = new ActivityFailure(
    'activity failed',
    'applyTaskChange',
    '1',
    'NON_RETRYABLE_FAILURE',
    undefined,
    failure,
  );
  return new WorkflowFailedError('workflow failed', activity, 'NON_RETRYABLE_FAILURE');
}

describe('task domain errors across the workflow boundary', () => {
  const errors = [
    new TaskNotFoundError('a.task'),
    new TaskExistsError('a.task'),
    new TaskOwnershipError('a.task', 'code'),
    new TaskConflictError('a.task'),
    new TaskValidationError([{ path: 'schedule.cron', message: 'bad field' }]),
    new FireRunNotFoundError('a.task-2026-01-01T00:00:00Z'),
    new FireRunStateError('a.task-2026-01-01T00:00:00Z', 'it was resolved'),
  ];

  it('covers exactly the error types the taskChange workflow does not retry', () => {
    assert.deepEqual(errors.map((e) => e.name).sort(), [...TASK_CHANGE_ERROR_TYPES].sort());
  });

  for (const error of errors) {
    it(`${error.name} becomes a non-retryable failure of its type and back, context intact`, () => {
      const failure = toFailure(error);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, error.name);
      assert.equal(failure.nonRetryable, true);
      assert.equal(failure.message, error.message);
      const back = fromFailure(asWorkflowFailure(failure), 'other.task');
      assert.ok(back instanceof Error);
      assert.equal(back.constructor, error.constructor);
      assert.equal(back.message, error.message);
      assert.deepEqual({ ...back }, { ...error });
    });
  }

  it('the owner travels in the details, not the message', () => {
    const failure = ApplicationFailure.create({
      message: 'reworded by someone',
      type: 'TaskOwnershipError',
      nonRetryable: true,
      details: [{ taskId: 'b.task', owner: 'api' }],
    });
    const back = fromFailure(asWorkflowFailure(failure), 'ignored');
    assert.ok(back instanceof TaskOwnershipError);
    assert.equal(back.owner, 'api');
    assert.equal(back.taskId, 'b.task');
  });

  it('a failure recorded in the earlier form (issues as the detail, no task id) still converts', () => {
    const issues = [{ path: 'handler.url', message: 'refused' }];
    const legacy = ApplicationFailure.create({ type: 'TaskValidationError', message: 'x', details: [issues] });
    const back = fromFailure(asWorkflowFailure(legacy), 'c.task');
    assert.ok(back instanceof TaskValidationError);
    assert.deepEqual(back.issues, issues);
    const notFound = fromFailure(
      asWorkflowFailure(ApplicationFailure.create({ type: 'TaskNotFoundError', message: 'x' })),
      'c.task',
    );
    assert.ok(notFound instanceof TaskNotFoundError);
    assert.equal(notFound.taskId, 'c.task');
  });

  it('leaves other errors and failures alone', () => {
    const plain = new Error('boom');
    assert.equal(toFailure(plain), plain);
    const other = asWorkflowFailure(ApplicationFailure.create({ type: 'SomethingElse', message: 'x' }));
    assert.equal(fromFailure(other, 'a'), other);
    assert.equal(fromFailure('text', 'a'), 'text');
  });
});
