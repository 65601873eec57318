import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CreateCannedReplyRequest, SubscribableEventType, WEBHOOK_EVENTS } from './index.js';
import { renderCannedReply, SUBSCRIBABLE_EVENT_TYPES, WEBHOOK_EVENT_TYPES } from './constants.js';

test('the constants entry imports nothing, so zod cannot reach a bundle through it', () => {
  const source = readFileSync(new URL('./constants.ts', import.meta.url), 'utf8');
  expect(source).not.toMatch(/^\s*(import|export .* from)\b/m);
  expect(source).not.toMatch(/\bimport\(/);
});

test('the webhook catalog and the subscribable types are the constants', () => {
  expect(Object.keys(WEBHOOK_EVENTS)).toEqual([...WEBHOOK_EVENT_TYPES]);
  expect(SubscribableEventType.options).toEqual(SUBSCRIBABLE_EVENT_TYPES);
});

test('a canned reply is rendered and validated by the same variable rule', () => {
  expect(renderCannedReply('Hi {{ visitor.name }}, {{agent.name}} here {{x.y}}', { agentName: 'Ann' })).toBe('Hi there, Ann here {{x.y}}');
  expect(CreateCannedReplyRequest.safeParse({ title: 't', body: 'Hi {{visitor.name}}' }).success).toBe(true);
  expect(CreateCannedReplyRequest.safeParse({ title: 't', body: 'Hi {{visitor.email}}' }).success).toBe(false);
});
