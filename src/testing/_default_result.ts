// The result a fake job has unless the test gives one: an ID verification that passed, with
// ResultCode 1012 ("ID Number Validated"), which Smile ID's result-code table puts in the
// "approved" category and describeResult (src/result.ts) reports as `approved`. The fields are
// the ones Smile ID's job-status answers carry; the values are made up for the fake.

import type { JsonObject } from "../types.ts";

/** The default `result` (PartnerParams are replaced by the job's own ids). */
export const DEFAULT_RESULT: JsonObject = {
  "ResultCode": "1012",
  "ResultText": "ID Number Validated",
  "ResultType": "ID Verification",
  "SmileJobID": "0000000001",
  "ConfidenceValue": "100",
  "IsFinalResult": "true",
  "IsMachineResult": "true",
  "Actions": {
    "Verify_ID_Number": "Verified",
    "Return_Personal_Info": "Returned",
  },
  "PartnerParams": { "job_type": "5", "user_id": "", "job_id": "" },
  "Source": "WebAPI",
  "JSONVersion": "1.0.0",
};

/** The default `code` of answers: the code of Smile ID's documented job-status answers. */
export const DEFAULT_CODE = "2302";
