/** Who did something: every service that changes data takes one and records it. */
export interface Actor {
  type: 'user' | 'token' | 'cli' | 'system' | 'connector';
  id: string;
  name?: string;
}

export const systemActor: Actor = { type: 'system', id: 'assay' };
