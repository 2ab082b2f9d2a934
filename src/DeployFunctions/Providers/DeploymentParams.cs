using System.Text.Json;

namespace DeployFunctions.Providers;

/// <summary>
/// The parameters of <c>.deploy ... | &lt;parameters&gt;</c> (branch-deploy's <c>params</c>), kept in the deployment's payload
/// under <c>params</c> as the app wrote it to the ledger.
/// </summary>
public static class DeploymentParams
{
    /// <summary>The <c>params</c> of a payload the app wrote (JSON), or null.</summary>
    public static string? Read(string? payloadJson)
    {
        if (string.IsNullOrEmpty(payloadJson))
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(payloadJson);
            return payload.RootElement.ValueKind == JsonValueKind.Object &&
                   payload.RootElement.TryGetProperty("params", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
