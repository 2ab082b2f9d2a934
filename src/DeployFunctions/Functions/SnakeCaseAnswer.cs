using System.Text.Json;
using System.Text.Json.Serialization;
using DeployFunctions.Http;

namespace DeployFunctions.Functions;

/// <summary>An endpoint's JSON answer (history, hook reports): the body serialized in snake_case, like GitHub's API.</summary>
public sealed record SnakeCaseAnswer(int StatusCode, object Body) : JsonAnswer(StatusCode)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public override byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(Body, Body.GetType(), Json);
}
