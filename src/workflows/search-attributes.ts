// The custom search attributes of syncs (see ../search-attributes.ts for their registration).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CONNECTION_ATTRIBUTE = defineSearchAttributeKey(
  'AmplitudeConnection',
  SearchAttributeType.KEYWORD,
);
export const STREAM_ATTRIBUTE = defineSearchAttributeKey('AmplitudeStream', SearchAttributeType.KEYWORD);
