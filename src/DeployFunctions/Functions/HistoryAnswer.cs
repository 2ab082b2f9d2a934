using System.Text.Json;
using System.Text.Json.Serialization;
using DeployFunctions.Http;

namespace DeployFunctions.Functions;

/// <summary>The history endpoint's answer: the body serialized in snake_case, like GitHub's API.</summary>
public sealed record HistoryAnswer(int StatusCode, object Body) : JsonAnswer(StatusCode)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public override byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(Body, Body.GetType(), Json);
}
