// The example answer printed on Smile ID's "Job Status" documentation page
// (https://docs.usesmileid.com/further-reading/job-status), kept as printed (the history entry's
// leading space in " Enroll User" included). The fake uses it as every job's default result,
// with PartnerParams.user_id and job_id replaced by the job's own ids.

import type { JsonObject } from "../types.ts";

/** The documented example's `result`. */
export const DOCS_EXAMPLE_RESULT: JsonObject = {
  "ConfidenceValue": "99",
  "JSONVersion": "1.0.0",
  "Actions": {
    "Verify_ID_Number": "Verified",
    "Return_Personal_Info": "Returned",
    "Human_Review_Update_Selfie": "Not Applicable",
    "Human_Review_Compare": "Not Applicable",
    "Update_Registered_Selfie_On_File": "Not Applicable",
    "Liveness_Check": "Not Applicable",
    "Register_Selfie": "Approved",
    "Human_Review_Liveness_Check": "Not Applicable",
    "Selfie_To_ID_Authority_Compare": "Completed",
    "Selfie_To_ID_Card_Compare": "Not Applicable",
    "Selfie_To_Registered_Selfie_Compare": "Not Applicable",
  },
  "ResultText": "Enroll User",
  "IsFinalResult": "true",
  "IsMachineResult": "true",
  "ResultType": "SAIA",
  "PartnerParams": {
    "job_type": "1",
    "optional_info": "Your additional tracking information",
    "user_id": "HBBBBBBH57g",
    "job_id": "HBBBBBBHg",
  },
  "Source": "WebAPI",
  "ResultCode": "0810",
  "SmileJobID": "0000001111",
};

/** The documented example's single `history` entry. */
export const DOCS_EXAMPLE_HISTORY_ENTRY: JsonObject = {
  "ConfidenceValue": "99",
  "JSONVersion": "1.0.0",
  "Actions": {
    "Verify_ID_Number": "Verified",
    "Return_Personal_Info": "Returned",
    "Human_Review_Update_Selfie": "Not Applicable",
    "Human_Review_Compare": "Not Applicable",
    "Update_Registered_Selfie_On_File": "Not Applicable",
    "Liveness_Check": "Not Applicable",
    "Register_Selfie": "Approved",
    "Human_Review_Liveness_Check": "Not Applicable",
    "Selfie_To_ID_Authority_Compare": "Completed",
    "Selfie_To_ID_Card_Compare": "Not Applicable",
    "Selfie_To_Registered_Selfie_Compare": "Not Applicable",
  },
  "ResultText": " Enroll User",
  "IsFinalResult": "true",
  "IsMachineResult": "true",
  "ResultType": "SAIA",
  "PartnerParams": {
    "job_type": "1",
    "optional_info": "we are one",
    "user_id": "HBBBBBBH57g",
    "job_id": "HBBBBBBHg",
  },
  "Source": "WebAPI",
  "ResultCode": "0810",
  "SmileJobID": "0000001111",
};

/** The documented example's `code`. */
export const DOCS_EXAMPLE_CODE = "2302";
